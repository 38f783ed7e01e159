"""``python -m lit_robust`` runs the ``lit-robust`` command."""

from lit_robust.cli import main

if __name__ == "__main__":
    main()
