"""The portal's pages: one module per page group, each with its ``router`` and ``MESSAGES``.

The app includes every module here that has a ``router`` (see ``portal.app.page_modules``);
templates are in ``portal/templates/<module>/``.
"""
