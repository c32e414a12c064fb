"""`python -m notifications` serves the API (uvicorn) with settings from the environment."""

from alliance_common.runner import serve
from notifications.bootstrap import create_app
from notifications.settings import get_settings


def main() -> None:
    serve(create_app, get_settings())


if __name__ == "__main__":
    main()
