"""The shared, model-agnostic training loop and the files it keeps."""
