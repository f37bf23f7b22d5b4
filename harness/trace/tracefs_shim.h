/* The three libtracefs calls gpcbench makes, behind C wrappers: Debian 12's tracefs.h
 * (libtracefs 1.6.4) has no extern "C" and does not compile as C++ (it passes an int as
 * an enum in an inline function), so only tracefs_shim.c includes it. Every wrapper takes
 * an explicit tracing directory or instance: none lets libtracefs find (and mount) one. */
#ifndef GPC_TRACE_TRACEFS_SHIM_H
#define GPC_TRACE_TRACEFS_SHIM_H

#ifdef __cplusplus
extern "C" {
#endif

struct tracefs_instance;
struct tep_handle;
struct tep_event;
struct tep_record;

typedef int (*gpc_tracefs_event_fn)(struct tep_event *event, struct tep_record *record, int cpu, void *context);

/* Makes `tracing_dir` the directory libtracefs uses wherever it would look for one itself:
 * libtracefs 1.6.4's tracefs_iterate_raw_events() reads a top-level file through
 * tracefs_cpu_open() -> tracefs_instance_file_read(NULL, ...), and with no tracefs mounted
 * that lookup mounts one at /sys/kernel/tracing in the global namespace (seen with strace
 * -k). With the directory set, the lookup never happens. Returns -1 on failure. */
int gpc_tracefs_set_tracing_dir(const char *tracing_dir);
/* An existing instance `name` under `tracing_dir`; NULL when it does not exist. */
struct tracefs_instance *gpc_tracefs_instance_alloc(const char *tracing_dir, const char *name);
void gpc_tracefs_instance_free(struct tracefs_instance *instance);
/* One non-blocking pass over every CPU buffer of `instance`; -1 on error. */
int gpc_tracefs_iterate_raw_events(struct tep_handle *tep, struct tracefs_instance *instance,
                                   gpc_tracefs_event_fn callback, void *context);

#ifdef __cplusplus
}
#endif

#endif
