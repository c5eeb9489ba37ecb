"""Build-time support for the documentation site (MkDocs hooks, assets, verification page).

Nothing here is needed to use the kernels; it runs only while ``mkdocs build`` or
``mkdocs serve`` renders the site. The entry point MkDocs loads is ``lstm_sym/site/hooks.py``
(listed under ``hooks:`` in ``mkdocs.yml``); it delegates to :mod:`lstm_sym.site.events`.
"""

__all__: list[str] = []
