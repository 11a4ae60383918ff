"""Shared styles: colours, widths and the look of the layouts."""

BRAND_COLOR = "indigo"
PAGE_MAX_WIDTH = "1100px"
SIDEBAR_WIDTH = "220px"

sidebar_style = {
    "width": SIDEBAR_WIDTH,
    "height": "100vh",
    "position": "sticky",
    "top": "0",
    "overflow_y": "auto",
    "padding": "1.25rem 0.75rem",
    "border_right": "1px solid var(--gray-a5)",
    "background": "var(--gray-a2)",
    "flex_shrink": "0",
}
nav_link_style = {
    "display": "block",
    "width": "100%",
    "padding": "0.45rem 0.75rem",
    "border_radius": "6px",
    "color": "var(--gray-12)",
    "text_decoration": "none",
    "_hover": {"background": "var(--accent-a4)"},
}
main_style = {
    "flex": "1",
    "padding": "1.5rem 2rem",
    "max_width": PAGE_MAX_WIDTH,
    "width": "100%",
}
card_style = {"width": "100%", "max_width": "440px"}
centered_page_style = {
    "min_height": "100vh",
    "align_items": "center",
    "justify_content": "center",
    "padding": "2rem",
    "background": "var(--gray-a2)",
}
clickable_row_style = {
    "cursor": "pointer",
    "_hover": {"background": "var(--accent-a3)"},
}
mail_body_style = {
    "white_space": "pre-wrap",
    "font_family": "var(--code-font-family)",
    "font_size": "0.8rem",
    "max_height": "12rem",
    "overflow": "auto",
}
field_label_style = {
    "font_size": "var(--font-size-2)",
    "font_weight": "500",
    "margin_bottom": "-0.25rem",
}
