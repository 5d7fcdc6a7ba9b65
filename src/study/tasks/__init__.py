"""Intermediate tasks: example types, loaders (local bundle and Hugging Face hub), group-wise splits."""
