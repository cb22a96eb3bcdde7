"""The four applications of unit 07, one module each.

``translation`` (an encoder-decoder and BLEU), ``speech`` (a bidirectional RNN with CTC),
``sentiment`` (a many-to-one RNN against a bag of words) and ``tagging`` (a one-to-many
decoder from an image to its tags); ``common`` holds what they share. Import a module
explicitly, e.g. ``from rnnlab.apps import translation``: each imports torch.
"""
