"""Naming: from a Frame.io file name to a group key and a version, and a file's media kind.

Owns the parser (:mod:`.parser`), user templates (:mod:`.templates`), the rules file
(:mod:`.rules`), rules per show (:mod:`.scopes`: which ``[[scope]]`` decides a file by project and
folder path), the analysis of ``rules suggest`` (:mod:`.suggest`) and media kinds (:mod:`.media`).
The contract is ``docs/naming.md``.

Pure: no I/O but reading a rules file when asked. May import: nothing from autostack outside
this package.
"""
