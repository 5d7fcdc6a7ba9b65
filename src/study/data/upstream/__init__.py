"""Build the data bundle from its public upstream sources (GitHub files at pinned commits).

``sources.tsv`` lists every upstream file (owner, repo, full commit, path, sha256); ``SHA256SUMS`` is the
bundle's own checksum list, shipped here so that a fetched bundle is verified against nothing from
outside. ``download`` fetches the sources into a local mirror, ``convert`` turns them into bundle files,
``build`` runs the whole fetch.
"""
