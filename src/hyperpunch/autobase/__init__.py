"""hyperpunch.autobase: multi-writer Autobase 7 (JS ``autobase`` 7.28.1).

Layers, lowest first: :mod:`~hyperpunch.autobase.messages` (the block and record encodings),
:mod:`~hyperpunch.autobase.keys` (view and system core key derivation), and the sans-IO
linearizer core (:mod:`~hyperpunch.autobase.topolist`, :mod:`~hyperpunch.autobase.consensus`,
:mod:`~hyperpunch.autobase.linearizer`).
"""
