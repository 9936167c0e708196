"""The reference agents take their vocabulary from the server they play."""

import unittest

from support import use_binary

from trainwreck import Client
from trainwreck._schema import string_options
from trainwreck.agents import RandomAgent
from trainwreck.evaluate import play


class RandomAgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.binary = use_binary()

    def setUp(self):
        self.client = Client(self.binary)
        self.addCleanup(self.client.close)

    def schema_labels(self) -> set:
        diagnose = next(v for v in self.client.schema()["action"]["oneOf"] if v["title"] == "mark_diagnosed")
        return set(string_options(diagnose["properties"]["diagnosis"]))

    def test_it_diagnoses_with_the_schemas_labels_and_fills_every_required_parameter(self):
        labels = self.schema_labels()
        agent = RandomAgent(seed=3, schema=self.client.schema())
        seen, refused = set(), []
        for seed in range(40):
            agent.reset("mystery", seed)
            result = self.client.reset("mystery", seed)
            while not result.done:
                action = agent.act(result.observation)
                if action["action_type"] == "mark_diagnosed":
                    seen.add(action["diagnosis"])
                result = self.client.step(action)
                message = result.observation.get("message") or ""
                # A parameter left out or outside the vocabulary; a fix_code
                # line train.py cannot take is a random agent's normal miss.
                if " needs '" in message or "unknown " in message:
                    refused.append((action, message))
        self.assertTrue(seen <= labels, seen - labels)
        # Labels the origin's list did not have: the vocabulary comes from the server.
        self.assertTrue(seen - {"lr_too_high", "vanishing_gradients", "data_leakage", "overfitting",
                                "batchnorm_eval_mode", "code_bug"}, seen)
        self.assertEqual(refused, [])

    def test_play_attaches_the_schema_and_episodes_are_reproducible(self):
        first = play(self.client, RandomAgent(seed=1), "task_007", 5)
        again = play(self.client, RandomAgent(seed=1), "task_007", 5)
        self.assertEqual(first, again)
        self.assertGreater(first.steps, 0)

    def test_without_a_schema_it_says_what_it_needs(self):
        observation = self.client.reset("task_001", 1).observation
        with self.assertRaisesRegex(RuntimeError, "schema"):
            RandomAgent().act(observation)


if __name__ == "__main__":
    unittest.main()
