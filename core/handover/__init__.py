"""Handover contracts at work: verify a contract, sign it off, report on it, exchange it as ODCS.

- :mod:`.verify` evaluates every acceptance criterion (through the quality runner, the metrics layer and
  the environment check) and the guarantees implied by the deliverables (schemas, artifact hashes, a
  model's signature and replay, operational constraints);
- :mod:`.coverage` hashes everything a contract covers, which binds sign-offs and verdicts to it;
- :mod:`.signoff` keeps the committed sign-off file (atomic appends, valid or stale);
- :mod:`.report` renders a verification for people (Markdown, HTML) and scripts (JSON);
- :mod:`.odcs_export` / :mod:`.odcs_import` translate dataset contracts to and from the Open Data
  Contract Standard.
"""
