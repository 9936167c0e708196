"""The Gymnasium environment: check_env, a 4-env AsyncVectorEnv, the
registered ids, and the schema → space rules. Skipped without gymnasium."""

import functools
import unittest
import warnings

from support import use_binary

try:
    import gymnasium as gym
    import numpy as np
except ImportError:  # pragma: no cover - depends on the machine
    gym = None

if gym is not None:
    from gymnasium import spaces
    from gymnasium.utils.env_checker import check_env

    import trainwreck.gym_env  # noqa: F401  (registers the ids)
    from trainwreck import BUILTIN_TASKS
    from trainwreck.spaces import JsonText, action_space, object_space


def label_enum(node):
    """The diagnosis labels the schema declares (the ``oneOf`` of ``const``
    values under ``diagnosis``)."""
    if isinstance(node, dict):
        choices = node.get("diagnosis", {}).get("oneOf") if isinstance(node.get("diagnosis"), dict) else None
        if choices:
            return tuple(c["const"] for c in choices if "const" in c)
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            found = label_enum(child)
            if found:
                return found
    return ()


@unittest.skipIf(gym is None, "gymnasium is not installed (pip install './python[gym]')")
class GymEnvTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        use_binary()

    def make(self, env_id="trainwreck/Debug-v0", **kwargs):
        env = gym.make(env_id, **kwargs)
        self.addCleanup(env.close)
        return env

    def test_check_env_passes_without_a_warning(self):
        for env_id in ("trainwreck/Debug-v0", "trainwreck/task_005-v0"):
            env = self.make(env_id, render_mode="ansi")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                check_env(env.unwrapped)
            self.assertEqual([str(w.message) for w in caught], [], env_id)

    def test_every_task_has_an_id(self):
        for task in BUILTIN_TASKS:
            self.assertIn(f"trainwreck/{task}-v0", gym.registry)
        env = self.make()
        self.assertEqual(env.unwrapped.task_ids, BUILTIN_TASKS)

    def test_a_mystery_hides_the_task_until_the_end(self):
        env = self.make("trainwreck/Mystery-v0")
        obs, info = env.reset(seed=3)
        self.assertEqual(obs["task_id"], "mystery")
        self.assertEqual(env.unwrapped.raw_observation["variant"], "mystery")
        _, _, terminated, _, info = env.step({"action_type": "mark_diagnosed", "diagnosis": "overfitting"})
        self.assertTrue(terminated)
        self.assertIn(info["unmasked"]["task_id"], BUILTIN_TASKS)
        self.assertTrue(info["unmasked"]["category"])

    def test_reset_takes_seed_and_task_and_is_deterministic(self):
        env = self.make()
        obs, info = env.reset(seed=42, options={"task_id": "task_003"})
        self.assertEqual((info["task_id"], info["seed"]), ("task_003", 42))
        self.assertEqual(obs["task_id"], "task_003")
        self.assertEqual(obs["run_id"], "task_003-s42-r0")
        again, _ = env.reset(seed=42, options={"task_id": "task_003"})
        np.testing.assert_array_equal(obs["val_loss_history"], again["val_loss_history"])
        self.assertEqual(int(obs["epoch"]), 20)
        self.assertEqual(obs["val_loss_history_valid"][:20].tolist(), [1] * 20)
        self.assertEqual(obs["val_loss_history_valid"][20:].sum(), 0)
        mask = obs["action_mask"].tolist()
        types = env.unwrapped._action_types
        self.assertEqual(mask[types.index("inspect_code")], 1)
        self.assertEqual(mask[types.index("fix_code")], 0)

    def test_step_accepts_every_action_form(self):
        env = self.make("trainwreck/task_001-v0", render_mode="ansi")
        env.reset(seed=42)
        types = env.unwrapped._action_types
        sample = env.action_space.sample()
        sample["action_type"] = types.index("inspect_gradients")
        _, r1, *_ = env.step(sample)
        self.assertGreater(r1, 0)
        env.step('{"action_type": "modify_config", "target": "learning_rate", "value": 0.001}')
        _, r3, _, _, info = env.step("restart_run")
        self.assertTrue(info["verdict"]["recovered"])
        self.assertIn("run completed", env.render())
        obs, r4, terminated, truncated, info = env.step({"action_type": "mark_diagnosed", "diagnosis": "lr_too_high"})
        self.assertTrue(terminated)
        self.assertFalse(truncated)
        self.assertEqual(info["score"], 1.0)
        self.assertIn("episode over · score 1", env.render())

    def test_sampled_actions_carry_only_their_own_parameters(self):
        env = self.make()
        env.reset(seed=3)
        env.action_space.seed(5)
        declared = {"inspect_gradients": set(), "restart_run": set(), "fix_model_mode": set(),
                    "modify_config": {"target", "value"}, "fix_code": {"line", "replacement"},
                    "mark_diagnosed": {"diagnosis"}, "add_callback": {"target"}}
        # The labels the server's schema declares (the vocabulary table's).
        labels = label_enum(env.unwrapped._client.schema())
        self.assertIn("lr_too_high", labels)
        seen = set()
        for _ in range(300):
            action = env.unwrapped.to_action(env.action_space.sample())
            kind = action.pop("action_type")
            seen.add(kind)
            if kind in declared:
                self.assertLessEqual(set(action), declared[kind], kind)
            if kind == "mark_diagnosed":
                self.assertIn(action["diagnosis"], labels)
        self.assertEqual(seen, set(env.unwrapped._action_types))

    def test_four_async_envs_run(self):
        envs = gym.vector.AsyncVectorEnv(
            [functools.partial(gym.make, "trainwreck/Debug-v0") for _ in range(4)]
        )
        self.addCleanup(envs.close)
        obs, info = envs.reset(seed=[1, 2, 3, 4])
        self.assertEqual(list(obs["task_id"]), list(info["task_id"]))
        self.assertEqual(obs["val_loss_history"].shape, (4, 100))
        envs.action_space.seed(0)
        ended = 0
        messages = set()
        for _ in range(40):
            obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
            self.assertEqual(reward.shape, (4,))
            ended += int((terminated | truncated).sum())
            messages.update(obs["message"])
        self.assertGreater(ended, 0, "random play ends episodes (a random diagnosis ends one)")
        self.assertGreater(len(messages), 4, "text fields change from step to step")


@unittest.skipIf(gym is None, "gymnasium is not installed (pip install './python[gym]')")
class SchemaSpacesTest(unittest.TestCase):
    SCHEMA = {
        "type": "object",
        "properties": {
            "status": {"enum": ["completed", "stopped", "failed"]},
            "normal": {"type": ["boolean", "null"]},
            "epoch": {"type": "integer", "minimum": 1, "maximum": 100},
            "count": {"type": "integer"},
            "lr": {"type": "number"},
            "history": {"type": "array", "maxItems": 4, "items": {"type": ["number", "null"]}},
            "available": {"type": "array", "items": {"enum": ["a", "b", "c"]}},
            "state": {"type": "object", "properties": {"done": {"type": "boolean"}}},
            "notes": {"type": "string"},
            "stats": {"type": ["object", "null"]},
        },
    }

    def test_each_rule(self):
        space, encode = object_space(self.SCHEMA)
        self.assertEqual(space["status"], spaces.Discrete(3))
        self.assertEqual(space["normal"], spaces.Discrete(3))
        self.assertEqual(space["epoch"], spaces.Discrete(100, start=1))
        self.assertEqual(space["history"].shape, (4,))
        self.assertEqual(space["history_valid"], spaces.MultiBinary(4))
        self.assertEqual(space["available"], spaces.MultiBinary(3))
        self.assertIsInstance(space["state"], spaces.Dict)
        self.assertIsInstance(space["notes"], JsonText)
        self.assertIsInstance(space["stats"], JsonText)
        obs = encode({"status": "failed", "normal": None, "epoch": 20, "count": 3, "lr": 0.1,
                      "history": [1.5, None, 2.5], "available": ["c", "a"], "state": {"done": True},
                      "notes": "ünïcode ✓\n", "stats": {"x": [1, 2]}})
        self.assertIn(obs, space)
        self.assertEqual(obs["status"], 2)
        self.assertEqual(obs["normal"], 2)
        self.assertEqual(obs["history"].tolist(), [1.5, 0.0, 2.5, 0.0])
        self.assertEqual(obs["history_valid"].tolist(), [1, 0, 1, 0])
        self.assertEqual(obs["available"].tolist(), [1, 0, 1])
        self.assertEqual(obs["state"], {"done": 1})
        self.assertEqual(obs["stats"], '{"x":[1,2]}')

    def test_action_space_from_variants(self):
        schema = {"oneOf": [
            {"properties": {"action_type": {"const": "inspect"}}},
            {"properties": {"action_type": {"const": "set"}}, "oneOf": [
                {"properties": {"target": {"enum": ["lr", "learning_rate"]}, "value": {"type": "number"}}},
                {"properties": {"target": {"enum": ["optimizer"]},
                                "value": {"oneOf": [{"const": "sgd"}, {"const": "adam"}], "type": "string"}}},
            ]},
            {"properties": {"action_type": {"const": "fix"}, "line": {"type": "integer", "minimum": 1}}},
            {"properties": {"action_type": {"const": "diagnose"},
                            "diagnosis": {"oneOf": [{"const": "a"}, {"const": "b"}]}}},
        ]}
        space, decode, types = action_space(schema)
        self.assertEqual(types, ("inspect", "set", "fix", "diagnose"))
        self.assertEqual(space["target"], spaces.Discrete(3))
        self.assertEqual(space["diagnosis"], spaces.Discrete(2))
        self.assertIsInstance(space["value"], JsonText)
        self.assertEqual(space["line"].low, 1)
        sample = {"action_type": 1, "target": 1, "value": "0.001", "line": np.array(4), "diagnosis": 1}
        self.assertEqual(decode(sample), {"action_type": "set", "target": "learning_rate", "value": 0.001})
        self.assertEqual(decode({**sample, "value": "adam"})["value"], "adam")
        self.assertEqual(decode({**sample, "action_type": 0}), {"action_type": "inspect"})
        self.assertEqual(decode({**sample, "action_type": 2}), {"action_type": "fix", "line": 4})
        self.assertEqual(decode({**sample, "action_type": 3}), {"action_type": "diagnose", "diagnosis": "b"})
        space.seed(1)
        for _ in range(50):
            self.assertIn(decode(space.sample())["action_type"], types)

    def test_a_flat_action_schema_still_works(self):
        schema = {"type": "object", "properties": {
            "action_type": {"enum": ["inspect", "set"]},
            "value": {"type": ["number", "string", "boolean"]},
        }}
        space, decode, types = action_space(schema)
        self.assertEqual(types, ("inspect", "set"))
        self.assertEqual(decode({"action_type": 1, "value": "true"}), {"action_type": "set", "value": True})


if __name__ == "__main__":
    unittest.main()
