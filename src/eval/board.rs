//! The leaderboard: per task, the mean score with a 95% interval, success
//! rate, mean steps and mean reward, then the same over every episode.

use super::EpisodeResult;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub task_id: String,
    pub episodes: usize,
    pub mean_score: f64,
    /// Half-width of the normal-approximation 95% interval of the mean score.
    pub ci95: f64,
    pub success_rate: f64,
    pub mean_steps: f64,
    pub mean_reward: f64,
}

impl Row {
    fn of(task_id: &str, results: &[&EpisodeResult]) -> Row {
        let n = results.len().max(1) as f64;
        let mean = |f: fn(&EpisodeResult) -> f64| results.iter().map(|r| f(r)).sum::<f64>() / n;
        let mean_score = mean(|r| r.score);
        let variance = if results.len() > 1 {
            results
                .iter()
                .map(|r| (r.score - mean_score).powi(2))
                .sum::<f64>()
                / (n - 1.0)
        } else {
            0.0
        };
        Row {
            task_id: task_id.to_string(),
            episodes: results.len(),
            mean_score,
            ci95: 1.96 * (variance / n).sqrt(),
            success_rate: mean(|r| f64::from(u8::from(r.success))),
            mean_steps: mean(|r| r.steps as f64),
            mean_reward: mean(|r| r.total_reward),
        }
    }

    fn markdown(&self) -> String {
        format!(
            "| {} | {} | {:.3} ± {:.3} | {:.1}% | {:.1} | {:+.3} |\n",
            self.task_id,
            self.episodes,
            self.mean_score,
            self.ci95,
            self.success_rate * 100.0,
            self.mean_steps,
            self.mean_reward
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    pub rows: Vec<Row>,
    pub overall: Row,
}

impl Board {
    /// Rows in the order tasks first appear in `results`.
    pub fn new(results: &[EpisodeResult]) -> Board {
        let mut ids: Vec<&str> = Vec::new();
        for r in results {
            if !ids.contains(&r.task_id.as_str()) {
                ids.push(&r.task_id);
            }
        }
        let rows = ids
            .iter()
            .map(|id| {
                let of_task: Vec<&EpisodeResult> =
                    results.iter().filter(|r| r.task_id == *id).collect();
                Row::of(id, &of_task)
            })
            .collect();
        let all: Vec<&EpisodeResult> = results.iter().collect();
        Board {
            rows,
            overall: Row::of("overall", &all),
        }
    }

    /// The table as Markdown, headed by the agent's name.
    pub fn markdown(&self, agent: &str) -> String {
        let mut out = format!(
            "agent: {agent}\n\n| task | episodes | score (95% CI) | success | steps | reward |\n| --- | --- | --- | --- | --- | --- |\n"
        );
        for row in &self.rows {
            out.push_str(&row.markdown());
        }
        let overall = self.overall.markdown();
        out.push_str(&overall.replacen("| overall |", "| **overall** |", 1));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Ending;

    fn result(task: &str, score: f64) -> EpisodeResult {
        EpisodeResult {
            task_id: task.into(),
            seed: 0,
            variant: "base".into(),
            category: "overfitting".into(),
            score,
            success: score >= 0.9,
            steps: 4,
            total_reward: 0.5,
            ending: Ending::Done,
            problem: None,
        }
    }

    #[test]
    fn means_intervals_and_rates() {
        let board = Board::new(&[result("a", 1.0), result("a", 0.0), result("b", 0.5)]);
        assert_eq!(board.rows.len(), 2);
        let a = &board.rows[0];
        assert_eq!((a.episodes, a.mean_score, a.success_rate), (2, 0.5, 0.5));
        // sd = sqrt(0.5), se = 0.5, ci = 0.98
        assert!((a.ci95 - 0.98).abs() < 1e-12);
        assert_eq!(board.rows[1].ci95, 0.0);
        assert_eq!(board.overall.episodes, 3);
        assert!(
            board
                .markdown("x")
                .contains("| a | 2 | 0.500 ± 0.980 | 50.0% | 4.0 | +0.500 |")
        );
    }
}
