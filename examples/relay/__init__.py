"""A chat page relaying Fini's streamed answers token by token (``python -m examples.relay``)."""
