from charter.core.cli import main

main()
