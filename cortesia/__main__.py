from cortesia.cli import main

main()
