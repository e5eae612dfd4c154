"""The PyInstaller entry script: the same ``main`` as the ``transferapp`` console script."""

from transferapp.__main__ import main

if __name__ == "__main__":
    main()
