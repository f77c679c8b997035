"""Planning and running units: folds, the unit key, fitting and tuning inside a fold,
executors, run configurations, predictions for new individuals and reruns (verify)."""
