"""A searchable, server-paged table with its filters and empty states."""

import logging
from collections.abc import Callable

import reflex as rx

from chub_ui.components.layout import empty_state, pager

logger = logging.getLogger(__name__)


# Looks like the theme's inputs; a native select keeps keyboard and tests simple.
FILTER_STYLE = {
    "height": "var(--space-6)",
    "padding": "0 var(--space-2)",
    "border": "1px solid var(--gray-a7)",
    "border_radius": "var(--radius-2)",
    "background": "var(--color-surface)",
    "font_size": "var(--font-size-2)",
    "max_width": "14rem",
}


def searchable_table(
    state,
    *,
    element_id: str,
    headers: tuple[str | rx.Component, ...],
    row: Callable[[rx.Var], rx.Component],
    empty: tuple[str, str, str],
    no_match: str,
    placeholder: str = "Search by name, company or e-mail",
    filters: tuple[rx.Component, ...] = (),
    is_filtered=None,
) -> rx.Component:
    """A search box and filters over a table of the state's page, with a pager.

    Args:
        state: a state with the PagedListMixin vars and events.
        element_id: the id of the table; the search box gets `<id>-search`.
        headers: the column titles, or components such as a select-all box.
        row: renders one item as a table row.
        empty: icon, title and text shown when the list has nothing at all.
        no_match: the text shown when the search or filters find nothing.
        placeholder: the hint in the search box.
        filters: controls shown beside the search box, such as filter_select.
        is_filtered: the var telling whether anything narrows the list;
            by default, whether there is a search.
    """
    is_filtered = state.search != "" if is_filtered is None else is_filtered
    search = rx.input(
        placeholder=placeholder,
        value=state.search,
        on_change=state.set_search.debounce(300),
        width="100%",
        max_length=100,
        id=f"{element_id}-search",
    )
    return rx.fragment(
        rx.flex(
            rx.box(search, flex="1 1 16rem"),
            *filters,
            wrap="wrap",
            spacing="2",
            align="center",
            width="100%",
        )
        if filters
        else search,
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
                is_filtered,
                empty_state("search-x", "No match", no_match),
                empty_state(*empty),
            ),
        ),
    )


def filter_select(
    *,
    element_id: str,
    label: str,
    value,
    on_change,
    options: tuple[tuple[str, str], ...],
    more_options=None,
) -> rx.Component:
    """A plain select over a list, so every browser and test can work it.

    Args:
        element_id: the select's id.
        label: what it filters, read by screen readers.
        value: the state var holding the chosen value.
        on_change: the handler receiving the chosen value.
        options: value and label pairs, in order.
        more_options: a state var of {value, label} dicts added at the end.
    """
    return rx.el.select(
        *[rx.el.option(text, value=option) for option, text in options],
        *(
            [
                rx.foreach(
                    more_options,
                    lambda option: rx.el.option(option["label"], value=option["value"]),
                )
            ]
            if more_options is not None
            else []
        ),
        value=value,
        on_change=on_change,
        id=element_id,
        aria_label=label,
        style=FILTER_STYLE,
    )
