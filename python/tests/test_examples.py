"""The examples: the LLM loop on a stub model, the token budget of the text
view, the evaluation harness and its Ray fan-out."""

import contextlib
import importlib.util
import io
import unittest

from support import use_binary

from trainwreck import Client
from trainwreck.evaluate import leaderboard, play_many

RAY = importlib.util.find_spec("ray") is not None


class LlmAgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.binary = use_binary()

    def test_the_stub_model_plays_whole_episodes_on_the_text_view(self):
        import llm_agent

        with Client(self.binary) as tw:
            # Far above random play (≈ 0.1): the stub reads the symptom off the text.
            for task, seed, want in (("task_001", 42, 0.7), ("task_003", 7, 0.7), ("task_005", 7, 0.7)):
                outcome = llm_agent.run_episode(tw, llm_agent.StubModel(), task, seed)
                self.assertTrue(outcome["done"], task)
                self.assertGreaterEqual(outcome["score"], want, task)
                self.assertLess(outcome["tokens"], 4000, task)
                views = [m["content"] for m in outcome["messages"] if m["role"] == "user"]
                self.assertIn("episode over · score", views[-1])

    def test_model_output_is_parsed_from_its_last_action_line(self):
        from llm_agent import parse_action

        self.assertEqual(
            parse_action('thinking…\nACTION: {"action_type": "inspect_code"}\nACTION: {"action_type": "restart_run"}'),
            {"action_type": "restart_run"},
        )
        self.assertIsNone(parse_action("I would inspect the gradients."))
        self.assertIsNone(parse_action('ACTION: {"action_type": 3}'))

    def test_a_model_that_never_answers_properly_is_cut_off(self):
        import llm_agent

        with Client(self.binary) as tw:
            outcome = llm_agent.run_episode(tw, lambda messages: "hmm", "task_002", 1, max_turns=3)
        self.assertFalse(outcome["done"])
        self.assertEqual(outcome["turns"], 3)


class TokenBudgetTest(unittest.TestCase):
    def test_the_text_view_costs_at_most_40_percent_of_the_json(self):
        import token_budget

        rows = token_budget.measure(use_binary())
        for row in rows:
            self.assertLessEqual(row["text"], 0.40 * row["json"], row)
            self.assertLess(row["json4"], row["json"], row)
        self.assertIn("**all six**", token_budget.table(rows))


class EvaluationTest(unittest.TestCase):
    JOBS = [(a, t, s) for a in ("heuristic", "random") for t in ("task_001", "task_004") for s in (1, 2, 3)]

    @classmethod
    def setUpClass(cls):
        cls.binary = use_binary()

    def test_the_leaderboard_ranks_heuristic_over_random_and_is_reproducible(self):
        first = leaderboard(play_many(self.JOBS, self.binary))
        again = leaderboard(reversed(play_many(list(reversed(self.JOBS)), self.binary)))
        self.assertEqual(first, again)
        overall = [r for r in first if r["task"] == "all"]
        self.assertEqual([r["agent"] for r in overall], ["heuristic", "random"])
        self.assertEqual(overall[0]["episodes"], 6)

    def test_ray_eval_without_ray_prints_the_table(self):
        import ray_eval

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ray_eval.main(["--no-ray", "--agents", "heuristic", "--tasks", "task_002", "--seeds", "1-2",
                           "--binary", self.binary])
        self.assertIn("| heuristic | task_002 | 2 |", out.getvalue())

    @unittest.skipUnless(RAY, "ray is not installed (pip install './python[ray]')")
    def test_ray_gathers_the_same_leaderboard_as_one_process(self):
        import ray
        import ray_eval

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        self.addCleanup(ray.shutdown)
        distributed = ray_eval.run_ray(self.JOBS, chunk=4, binary=self.binary)
        self.assertEqual(len(distributed), len(self.JOBS))
        local = ray_eval.run_local(self.JOBS, self.binary)
        self.assertEqual(leaderboard(distributed), leaderboard(local))
        self.assertEqual(sorted(distributed, key=repr), sorted(local, key=repr))


if __name__ == "__main__":
    unittest.main()
