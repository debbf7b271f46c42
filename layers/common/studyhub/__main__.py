from studyhub.ops.cli import main

main()
