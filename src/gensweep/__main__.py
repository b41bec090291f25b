from gensweep.cli import main

main()
