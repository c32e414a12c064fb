"""`python -m integration` serves the API (uvicorn) with settings from the environment."""

from alliance_common.runner import serve
from integration.bootstrap import create_app
from integration.settings import get_settings


def main() -> None:
    serve(create_app, get_settings())


if __name__ == "__main__":
    main()
