"""Page-number pagination, as DRF's PageNumberPagination does it.

``page`` is 1-based (or ``last``); ``page_size`` defaults to 10 and is capped at
100, and an invalid one falls back to the default. Links are absolute, keep
every other query parameter (sorted, as DRF writes them), and the link to the
first page carries no ``page`` at all.
"""

import math
from urllib.parse import urlencode

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


class InvalidPage(Exception):
    """The requested page is not a positive integer or lies past the last page."""


def page_size(args):
    """Return the page size asked for in ``args``, or the default."""
    try:
        size = int(args["page_size"])
    except (KeyError, ValueError):
        return DEFAULT_PAGE_SIZE
    if size <= 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


def page_number(args, page_count):
    """Return the 1-based page asked for in ``args``; InvalidPage if there is no such page."""
    raw = args.get("page", "1")
    if raw == "last":
        return page_count
    try:
        number = int(raw)
    except ValueError:
        raise InvalidPage(raw) from None
    if not 1 <= number <= page_count:
        raise InvalidPage(raw)
    return number


def paginate(items, args, base_url):
    """Return (count, next link, previous link, the page's items).

    ``args`` is the request's query as a werkzeug MultiDict, whose other
    parameters the links keep; ``base_url`` the absolute URL without a query.
    """
    size = page_size(args)
    count = len(items)
    page_count = max(1, math.ceil(count / size))
    number = page_number(args, page_count)
    next_link = _link(base_url, args, number + 1) if number < page_count else None
    previous_link = _link(base_url, args, number - 1) if number > 1 else None
    return count, next_link, previous_link, items[(number - 1) * size : number * size]


def _link(base_url, args, number):
    query = {key: values for key, values in args.lists() if key != "page"}
    if number > 1:
        query["page"] = [str(number)]
    encoded = urlencode(sorted(query.items()), doseq=True)
    return base_url + "?" + encoded if encoded else base_url
