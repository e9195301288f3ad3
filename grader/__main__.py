"""`python -m grader` runs the CLI."""

from grader.cli import main

if __name__ == "__main__":
    main()
