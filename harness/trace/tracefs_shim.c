#include "trace/tracefs_shim.h"

#define _GNU_SOURCE
#include <tracefs/tracefs.h>

int gpc_tracefs_set_tracing_dir(const char *tracing_dir) {
  /* The library copies the string (strdup) and keeps it until the next call. */
  return tracefs_set_tracing_dir((char *)tracing_dir);
}

struct tracefs_instance *gpc_tracefs_instance_alloc(const char *tracing_dir, const char *name) {
  return tracefs_instance_alloc(tracing_dir, name);
}

void gpc_tracefs_instance_free(struct tracefs_instance *instance) { tracefs_instance_free(instance); }

int gpc_tracefs_iterate_raw_events(struct tep_handle *tep, struct tracefs_instance *instance,
                                   gpc_tracefs_event_fn callback, void *context) {
  return tracefs_iterate_raw_events(tep, instance, NULL, 0, callback, context);
}
