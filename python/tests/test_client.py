"""The standard-library client against the real server."""

import io
import unittest

from support import use_binary

from trainwreck import BUILTIN_TASKS, Client, ProtocolError, ServerError

BOX_DRAWING = {chr(c) for c in range(0x2500, 0x25A0)}


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.binary = use_binary()

    def setUp(self):
        self.client = Client(self.binary)
        self.addCleanup(self.client.close)

    def test_a_walkthrough_gives_typed_results(self):
        tw = self.client
        first = tw.reset("task_001", seed=42)
        self.assertEqual(first.observation["task_id"], "task_001")
        self.assertEqual(first.reward, 0.0)
        self.assertFalse(first.done)
        step = tw.step("inspect_gradients")
        self.assertTrue(step.observation["episode_state"]["gradients_inspected"])
        self.assertGreater(step.reward, 0, "the first relevant inspection earns a bonus")
        self.assertFalse(step.info["invalid"])
        tw.step("modify_config", target="learning_rate", value=0.001)
        restart = tw.step({"action_type": "restart_run"})
        self.assertTrue(restart.info["verdict"]["recovered"])
        last = tw.step("mark_diagnosed", diagnosis="lr_too_high")
        self.assertTrue(last.done and last.terminated and not last.truncated)
        self.assertEqual(last.score, 1.0)
        state = tw.state()
        self.assertEqual((state.task_id, state.seed, state.step_count, state.done), ("task_001", 42, 4, True))
        grade = tw.grade()
        self.assertEqual(grade.score, 1.0)
        self.assertIsNotNone(grade.debrief)

    def test_protocol_errors_raise_and_the_session_goes_on(self):
        tw = self.client
        with self.assertRaises(ProtocolError) as err:
            tw.step("inspect_code")
        self.assertEqual(err.exception.code, "NO_EPISODE")
        with self.assertRaises(ProtocolError) as err:
            tw.reset("task_404")
        self.assertEqual(err.exception.code, "UNKNOWN_TASK")
        with self.assertRaises(ProtocolError) as err:
            tw.request("reset", {"seed": -1})
        self.assertEqual((err.exception.code, err.exception.field), ("VALIDATION_ERROR", "data.seed"))
        tw.reset("task_002", seed=1)
        tw.step("mark_diagnosed", diagnosis="overfitting")
        with self.assertRaises(ProtocolError) as err:
            tw.step("inspect_code")
        self.assertEqual(err.exception.code, "EPISODE_DONE")
        self.assertEqual(tw.reset("task_002", seed=1).observation["episode_state"]["step_count"], 0)

    def test_an_invalid_action_is_a_step_not_an_error(self):
        self.client.reset("task_001", seed=3)
        step = self.client.step("fly_to_the_moon")
        self.assertTrue(step.info["invalid"])
        self.assertLess(step.reward, 0)

    def test_catalogue_and_schema(self):
        self.assertEqual(tuple(t.id for t in self.client.tasks()), BUILTIN_TASKS)
        schema = self.client.schema()
        self.assertIn("action", schema)
        self.assertIn("observation", schema)
        self.assertIn("render", schema["replies"])

    def test_render_is_compact_plain_text(self):
        self.client.reset("task_002", seed=4)
        self.client.step("inspect_gradients")
        text = self.client.render()
        self.assertTrue(text.startswith("task_002 · run task_002-s4-r0 · step 1/20"))
        self.assertIn("layer  mean_norm  max_norm  status", text)
        self.assertIn("vanishing", text)
        self.assertFalse(BOX_DRAWING & set(text))

    def test_events_come_with_the_reply_that_caused_them(self):
        self.assertEqual(self.client.subscribe(["training_started", "training_error"]),
                         ["training_started", "training_error"])
        result = self.client.reset("task_001", seed=42)
        self.assertEqual([e["event"] for e in result.events], ["training_started", "training_error"])
        self.assertEqual(self.client.unsubscribe(), [])
        self.assertEqual(self.client.reset("task_001", seed=42).events, ())

    def test_float_digits_shorten_replies(self):
        with Client(self.binary, float_digits=3) as short:
            rounded = short.reset("task_004", seed=5).observation["val_loss_history"]
        full = self.client.reset("task_004", seed=5).observation["val_loss_history"]
        for a, b in zip(full, rounded):
            self.assertAlmostEqual(a, b, delta=abs(a) * 5e-3)
            self.assertEqual(b, float(f"{b:.3g}"), "three significant figures")

    def test_close_is_clean_and_idempotent(self):
        tw = Client(self.binary)
        tw.reset()
        self.assertEqual(tw.close(), 0)
        self.assertEqual(tw.close(), 0)
        with self.assertRaises(ServerError):
            tw.state()

    def test_a_dead_server_is_reported(self):
        tw = Client(self.binary)
        self.addCleanup(tw.close)
        tw._proc.kill()
        tw._proc.wait()
        with self.assertRaises(ServerError):
            tw.reset()

    def test_a_missing_binary_is_reported(self):
        with self.assertRaises(ServerError):
            Client("/nonexistent/trainwreck")

    def test_pipes_are_buffered(self):
        # bufsize=0 would make readline a system call per byte (3x slower).
        self.assertIsInstance(self.client._proc.stdout, io.BufferedReader)
        self.assertIsInstance(self.client._proc.stdin, io.BufferedWriter)


if __name__ == "__main__":
    unittest.main()
