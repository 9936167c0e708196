//! Classification metrics over a confusion matrix (rows true class, columns
//! predicted): per-class recall and precision, and balanced accuracy, the
//! mean of the per-class recalls. Plain accuracy hides a class the model
//! never predicts when that class is rare; these do not.

/// Counts of (true, predicted) pairs; labels or predictions out of range are
/// not counted.
pub fn confusion(labels: &[usize], predicted: &[usize], classes: usize) -> Vec<Vec<usize>> {
    let mut matrix = vec![vec![0; classes]; classes];
    for (&y, &p) in labels.iter().zip(predicted) {
        if let Some(cell) = matrix.get_mut(y).and_then(|row| row.get_mut(p)) {
            *cell += 1;
        }
    }
    matrix
}

/// Per true class: the share of its rows predicted as it (`None` for a class
/// with no rows).
pub fn recall_by_class(matrix: &[Vec<usize>]) -> Vec<Option<f64>> {
    matrix
        .iter()
        .enumerate()
        .map(|(c, row)| {
            let total: usize = row.iter().sum();
            (total > 0).then(|| row.get(c).copied().unwrap_or(0) as f64 / total as f64)
        })
        .collect()
}

/// Per predicted class: the share of its predictions that were right (`None`
/// for a class never predicted).
pub fn precision_by_class(matrix: &[Vec<usize>]) -> Vec<Option<f64>> {
    (0..matrix.len())
        .map(|c| {
            let predicted: usize = matrix
                .iter()
                .map(|row| row.get(c).copied().unwrap_or(0))
                .sum();
            let right = matrix
                .get(c)
                .and_then(|row| row.get(c))
                .copied()
                .unwrap_or(0);
            (predicted > 0).then(|| right as f64 / predicted as f64)
        })
        .collect()
}

/// The mean recall over the classes that have rows, as scikit-learn's
/// `balanced_accuracy_score`; NaN when no class has any.
pub fn balanced_accuracy(matrix: &[Vec<usize>]) -> f64 {
    let recalls: Vec<f64> = recall_by_class(matrix).into_iter().flatten().collect();
    if recalls.is_empty() {
        f64::NAN
    } else {
        recalls.iter().sum::<f64>() / recalls.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_majority_predictor_has_high_accuracy_and_chance_balanced_accuracy() {
        // 90 rows of class 0, 10 of class 1, everything predicted 0.
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i >= 90)).collect();
        let m = confusion(&labels, &[0; 100], 2);
        assert_eq!(m, vec![vec![90, 0], vec![10, 0]]);
        assert_eq!(recall_by_class(&m), vec![Some(1.0), Some(0.0)]);
        assert_eq!(precision_by_class(&m), vec![Some(0.9), None]);
        assert_eq!(balanced_accuracy(&m), 0.5);
    }

    #[test]
    fn classes_without_rows_are_left_out_and_out_of_range_is_ignored() {
        let m = confusion(&[0, 0, 2, 7], &[0, 1, 2, 0], 3);
        assert_eq!(m, vec![vec![1, 1, 0], vec![0, 0, 0], vec![0, 0, 1]]);
        assert_eq!(recall_by_class(&m), vec![Some(0.5), None, Some(1.0)]);
        assert_eq!(balanced_accuracy(&m), 0.75);
        assert!(balanced_accuracy(&[]).is_nan());
    }
}
