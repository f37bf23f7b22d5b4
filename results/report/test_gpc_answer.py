"""Tests of the Answer section on synthetic matrix directories (gpc_synth.py): the sentence a
maintainer quotes, the cells it must name but never rank, the placement evidence, the noise
check, legacy cells, and its place at the top of the report."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpc_answer as A  # noqa: E402
import gpc_answer_checks as K  # noqa: E402
import gpc_conditions as C  # noqa: E402
import gpc_judge as J  # noqa: E402
import gpc_report  # noqa: E402
import gpc_results as R  # noqa: E402
import gpc_synth as G  # noqa: E402


def cell(strategy, placement, hold, p50, cpu, corunner=None, **kw):
    return G.CellSpec(G.cache_params(strategy, placement, hold, **{k: kw.pop(k) for k in ("rate", "hook") if k in kw}),
                      p50=p50, cpu=cpu, corunner=corunner, **kw)


# Block clearly wins where a co-runner shares the CPU and the hold is long, and clearly loses
# on wake-up latency with no hold (the trade in seeds/004).
WIN_AND_LOSS = [cell("busy", "shared", "1ms", 4e6, 1.9e6, 0.5), cell("block", "shared", "1ms", 1.2e6, 15e3, 0.97),
                cell("busy", "alone", "0", 40e3, 38e3), cell("block", "alone", "0", 85e3, 9e3)]


class Fixture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.n = 0

    def tearDown(self):
        self.tmp.cleanup()

    def load(self, specs):
        self.n += 1
        root = os.path.join(self.tmp.name, f"m{self.n}")
        G.write_matrix(root, specs)
        return R.load(root)

    def answer(self, specs):
        ds = self.load(specs)
        answer = C.AnswerCells(ds.cells())
        return ds, answer, A.judge_all(answer)

    def markdown(self, ds):
        doc, _ = gpc_report.build(ds)
        return doc.markdown(os.path.join(self.tmp.name, f"files{self.n}")), doc.html("t")


class Sentence(Fixture):
    def test_block_wins_in_one_condition_and_loses_in_another(self):
        _, answer, judged = self.answer(WIN_AND_LOSS)
        by = {dict(j.condition)["placement"]: j for j in judged["block"]}
        self.assertEqual(by["shared"].category, J.MEANINGFUL)
        self.assertEqual(by["alone"].category, J.LOSES)
        self.assertIn("collided_p50_ns", by["alone"].losses)
        text = A.sentence(answer, "block", judged["block"])
        self.assertTrue(text.startswith("**block** gives meaningful value in 1 of 2 ranked conditions "
                                        "(not most of them), 0 of 1 where the waiter is alone [shared, hold 1ms, "
                                        "1000 Hz: collided p50 0.3"), text)
        self.assertIn("; it loses in 1 [alone, hold 0, 1000 Hz: collided p50 2.", text)

    def test_most_means_more_than_half(self):
        specs = WIN_AND_LOSS + [cell("busy", "shared", "100us", 1e6, 1e6, 0.5),
                                cell("block", "shared", "100us", 0.5e6, 2e4, 0.97)]
        _, answer, judged = self.answer(specs)
        self.assertIn("gives meaningful value in 2 of 3 ranked conditions (most of them)",
                      A.sentence(answer, "block", judged["block"]))

    def test_the_definition_and_the_sentence_are_in_the_report(self):
        md, _ = self.markdown(self.load(WIN_AND_LOSS))
        self.assertIn("**Meaningful value** (issue 14): in one condition, a strategy is better than busy", md)
        self.assertIn("p < 0.01) and by at least 10%", md)
        self.assertIn("- **block** gives meaningful value in 1 of 2 ranked conditions", md)


class NeverRanked(Fixture):
    def test_starved_and_unsafe_cells_are_named_and_not_ranked(self):
        specs = WIN_AND_LOSS + [
            cell("busy", "shared", "100us", 4e6, 1.9e6, 0.5),
            cell("block", "shared", "100us", 1e6, 1e4, 0.97, starved=(0, 0, 4, 0, 0)),  # would win, but starved
            cell("busy", "alone", "1ms", 2e6, 2e6, hook="end", unsafe=3),
            cell("block", "alone", "1ms", 1e6, 1e4, hook="end", unsafe=3)]
        ds, answer, judged = self.answer(specs)
        text = A.sentence(answer, "block", judged["block"])
        self.assertIn("gives meaningful value in 1 of 2 ranked conditions", text)
        self.assertIn("Not ranked in 2 [alone, hold 1ms, 1000 Hz, hook:end: unsafe by design; "
                      "shared, hold 100us, 1000 Hz, hook:start: starved (livelock)]", text)
        md, _ = self.markdown(ds)
        answer_md = md[md.index("## Answer"):md.index("## Findings")]
        self.assertIn("**Starved (livelock)**", answer_md)
        self.assertIn(f"| `{specs[5].name}` | 4 | 1 / 5 |", answer_md)
        self.assertIn(f"`{specs[7].name}`", answer_md[answer_md.index("**Unsafe by design**"):])
        self.assertNotIn("**meaningful value**", [line for line in answer_md.splitlines() if "hold 100us" in line
                                                  and "| block |" in line][0])

    def test_too_few_repetitions_are_said_not_claimed(self):
        specs = [cell("busy", "shared", "1ms", 4e6, 1.9e6, 0.5, reps=4),
                 cell("block", "shared", "1ms", 1.2e6, 15e3, 0.97, reps=4)]
        ds, answer, judged = self.answer(specs)
        j = judged["block"][0]
        self.assertEqual(j.category, J.NOT_RANKED)
        self.assertIn("too few repetitions (4 vs 4 runs; p < 0.01 needs 5 on each side)", j.reason)
        self.assertIn("cannot be ranked against busy in any of its 1 conditions", A.sentence(answer, "block", [j]))
        md, _ = self.markdown(ds)
        self.assertNotIn("**meaningful value**", md[md.index("## Answer"):md.index("## Findings")])

    def test_unequal_repetitions_are_compared(self):
        specs = [cell("busy", "shared", "1ms", 4e6, 1.9e6, 0.5, reps=5),
                 cell("block", "shared", "1ms", 1.2e6, 15e3, 0.97, reps=8)]
        _, _, judged = self.answer(specs)
        self.assertEqual(judged["block"][0].category, J.MEANINGFUL)
        self.assertEqual(judged["block"][0].comparisons["collided_p50_ns"].n_other, 8)


class Legacy(Fixture):
    LEGACY = G.CellSpec({"strategy": "block", "hook": "start", "invalidator": "mremap", "co-runner": "on"},
                        corunner=0.9)

    def test_legacy_cells_load_but_stay_out_of_the_answer(self):
        ds, answer, judged = self.answer(WIN_AND_LOSS + [self.LEGACY])
        self.assertEqual(answer.legacy, [self.LEGACY.name])
        self.assertEqual(len(judged["block"]), 2)
        md, _ = self.markdown(ds)
        self.assertIn("1 legacy cell(s) without a placement axis", md)
        self.assertIn(self.LEGACY.name, md[md.index("## Findings"):])  # still in its scenario section

    def test_only_legacy_cells_cannot_answer(self):
        md, _ = self.markdown(self.load([self.LEGACY, G.CellSpec({"strategy": "busy", "co-runner": "on"})]))
        self.assertIn("No `cache` cell names a placement", md)
        self.assertIn("2 legacy cell(s)", md)


class BadInput(Fixture):
    def write_runs(self, root, name, metrics):
        os.makedirs(os.path.join(root, "runs"), exist_ok=True)
        for rep in range(5):
            doc = {"context": {}, "benchmarks": [{"name": name, "run_type": "iteration", "repetition_index": rep,
                                                  "real_time": 1.0, "cpu_time": 1.0, **metrics}]}
            with open(os.path.join(root, "runs", f"{name.replace('/', '.')}.rep{rep}.json"), "w") as f:
                json.dump(doc, f)

    def test_placement_cells_without_the_new_counters_are_not_ranked(self):
        root = os.path.join(self.tmp.name, "old")
        for strategy in ("busy", "block"):
            self.write_runs(root, f"cache/strategy:{strategy}/hook:start/placement:alone", {"p50_ns": 5.0})
        ds = R.load(root)
        judged = A.judge_all(C.AnswerCells(ds.cells()))
        self.assertEqual(judged["block"][0].reason,
                         "not recorded: collided p50, collided p99, CPU per collision")
        md, _ = self.markdown(ds)
        self.assertIn("cannot be ranked against busy in any of its 1 conditions", md)
        self.assertIn("| alone | 2 | 10 | not recorded |", md)

    def test_zero_values_give_no_interval_and_no_crash(self):
        root = os.path.join(self.tmp.name, "zero")
        for strategy in ("busy", "block"):
            self.write_runs(root, f"cache/strategy:{strategy}/hook:start/placement:alone",
                            {"collided_p50_ns": 0.0, "collided_p99_ns": 0.0, "cpu_ns_per_collision": 0.0})
        md, _ = self.markdown(R.load(root))
        self.assertIn("(no interval: a value <= 0)", md)


class Evidence(Fixture):
    def test_noisy_alone_cells_are_named_with_their_spread(self):
        specs = [cell("busy", "alone", "0", 40e3, 38e3, noise=0.15), cell("block", "alone", "0", 85e3, 9e3),
                 cell("busy", "shared", "0", 40e3, 38e3, 0.5, noise=0.15),
                 cell("block", "shared", "0", 85e3, 9e3, 0.9)]
        ds, answer, _ = self.answer(specs)
        noisy, _ = K.noisy_cells(answer)
        self.assertEqual([c for c, _, _ in noisy], [specs[0].name])  # the target is for alone cells
        value, runs = K.spread(ds.cells()[specs[0].name])
        self.assertGreater(value, 0.10)
        md, _ = self.markdown(ds)
        self.assertIn(f"`{specs[0].name}`: spread {value:.1%} over {runs} runs", md)

    def test_quiet_alone_cells_are_reported_within_target(self):
        md, _ = self.markdown(self.load(WIN_AND_LOSS))
        self.assertIn("Every `alone` cell is within the 10% spread target", md)

    def test_spread_is_the_reports_range_over_median_of_collided_p50(self):
        ds = self.load(WIN_AND_LOSS[:1])
        samples = ds.cells()[WIN_AND_LOSS[0].name]
        values = [s.metrics["collided_p50_ns"] for s in samples]
        self.assertAlmostEqual(K.spread(samples)[0], (max(values) - min(values)) / sorted(values)[2])

    def test_placement_evidence_counts_runs_that_did_not_hold(self):
        specs = [cell("busy", "alone", "0", 40e3, 38e3, held=(1, 0, 1, 1, 1), wait_share=0.004),
                 cell("block", "alone", "0", 85e3, 9e3)]
        ds, answer, _ = self.answer(specs)
        ev = K.placement_evidence(answer)[0]
        self.assertEqual((ev.placement, ev.runs, ev.not_held), ("alone", 10, {specs[0].name: 1}))
        md, _ = self.markdown(ds)
        self.assertIn(f"1 of 10 runs NOT held: `{specs[0].name}` (1)", md)


class Placement(Fixture):
    def test_the_answer_is_the_first_section_of_markdown_and_html(self):
        md, page = self.markdown(self.load(WIN_AND_LOSS))
        self.assertLess(md.index("## Answer"), md.index("## Findings"))
        self.assertEqual(md.split("\n## ")[1].split("\n")[0],
                         "Answer: does a waiting strategy give meaningful value over busy (upstream)?")
        self.assertLess(page.index("<h2>Answer"), page.index("<h2>Findings"))
        self.assertIn("Synthetic data", page)


if __name__ == "__main__":
    unittest.main()
