"""A mixin for server-paged, searchable lists."""

import logging

import reflex as rx

logger = logging.getLogger(__name__)

MAX_SEARCH_LENGTH = 100


class PagedListMixin(rx.State, mixin=True):
    """Search text, page number and the rows of one page.

    The state that mixes it in defines `_load_page`, which reads the page
    through a service (re-checking access) and returns a redirect or None.
    """

    items: list[dict] = []
    search: str = ""
    page: int = 1
    pages: int = 1
    total: int = 0

    def _load_page(self):
        raise NotImplementedError

    @rx.event
    def set_search(self, text: str):
        """Search the list, starting again from the first page."""
        self.search = str(text)[:MAX_SEARCH_LENGTH]
        self.page = 1
        return self._load_page()

    @rx.event
    def next_page(self):
        """Show the next page."""
        self.page = min(self.page + 1, self.pages)
        return self._load_page()

    @rx.event
    def previous_page(self):
        """Show the previous page."""
        self.page = max(self.page - 1, 1)
        return self._load_page()
