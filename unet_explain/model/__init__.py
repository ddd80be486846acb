"""The Keras model and its cross-check; TensorFlow is imported lazily, inside the functions."""
