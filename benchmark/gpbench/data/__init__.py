"""Data sources and preprocessing: pinned downloads, declared dataset files and their parsed
cache, and the marker QC and imputation fitted on a training fold."""
