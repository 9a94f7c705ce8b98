from slokit_app.cli import main

main()
