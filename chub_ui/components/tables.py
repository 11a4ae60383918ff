"""A searchable, server-paged table with its empty states."""

import logging
from collections.abc import Callable

import reflex as rx

from chub_ui.components.layout import empty_state, pager

logger = logging.getLogger(__name__)


def searchable_table(
    state,
    *,
    element_id: str,
    headers: tuple[str, ...],
    row: Callable[[rx.Var], rx.Component],
    empty: tuple[str, str, str],
    no_match: str,
    placeholder: str = "Search by name, company or e-mail",
) -> rx.Component:
    """A search box over a table of the state's page, with a pager.

    Args:
        state: a state with the PagedListMixin vars and events.
        element_id: the id of the table; the search box gets `<id>-search`.
        headers: the column titles.
        row: renders one item as a table row.
        empty: icon, title and text shown when the list has nothing at all.
        no_match: the text shown when the search finds nothing.
        placeholder: the hint in the search box.
    """
    return rx.fragment(
        rx.input(
            placeholder=placeholder,
            value=state.search,
            on_change=state.set_search.debounce(300),
            width="100%",
            max_length=100,
            id=f"{element_id}-search",
        ),
        rx.cond(
            state.total > 0,
            rx.vstack(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[rx.table.column_header_cell(title) for title in headers]
                        )
                    ),
                    rx.table.body(rx.foreach(state.items, row)),
                    width="100%",
                    id=f"{element_id}-table",
                ),
                pager(state),
                width="100%",
            ),
            rx.cond(
                state.search != "",
                empty_state("search-x", "No match", no_match),
                empty_state(*empty),
            ),
        ),
    )
