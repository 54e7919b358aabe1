# Warnings are errors everywhere: a warning is a bug not yet found.
add_compile_options(
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
  -Wvla -Wpointer-arith -Wundef -Wcast-align -Wwrite-strings
  -Wimplicit-fallthrough -Wnull-dereference)
