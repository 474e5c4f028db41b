"""How Windows splits a command line into arguments (a test helper, independent of the code under test).

The rules are Microsoft's, for the arguments after the program name, as CommandLineToArgvW and the Microsoft C
runtime apply them ("Parsing C++ command-line arguments",
https://learn.microsoft.com/cpp/cpp/main-function-command-line-args#parsing-c-command-line-arguments, and
https://learn.microsoft.com/windows/win32/api/shellapi/nf-shellapi-commandlinetoargvw):

1. Arguments are delimited by whitespace, which is either a space or a tab (nothing else: a line end, a vertical tab
   or a no-break space is part of an argument).
2. A string surrounded by double quotes is interpreted as a single argument, whether or not it contains whitespace.
   A quoted string can be embedded in an argument.
3. A double quote preceded by a backslash, ``\\"``, is interpreted as a literal double quote.
4. Backslashes are interpreted literally, unless they immediately precede a double quote.
5. If an even number of backslashes is followed by a double quote, one backslash is placed in argv for every pair,
   and the double quote is interpreted as a string delimiter.
6. If an odd number of backslashes is followed by a double quote, one backslash is placed in argv for every pair,
   and the double quote is "escaped" by the remaining backslash: a literal double quote.
7. Inside a quoted string, two double quotes in a row are one literal double quote (the C runtime's behaviour since
   Visual Studio 2008, documented on the same page).
"""

from __future__ import annotations


def split_arguments(command_line: str) -> list[str]:
    """The arguments Windows reads from ``command_line`` (which holds no program name)."""
    args: list[str] = []
    current: list[str] = []
    in_argument = False  # an argument has started (a quoted empty string "" is an argument too)
    quoted = False
    i = 0
    n = len(command_line)
    while i < n:
        char = command_line[i]
        if char == "\\":
            start = i
            while i < n and command_line[i] == "\\":
                i += 1
            count = i - start
            in_argument = True
            if i < n and command_line[i] == '"':
                current.append("\\" * (count // 2))  # rules 5 and 6
                if count % 2:
                    current.append('"')  # rule 6: the quote is literal
                    i += 1
                # rule 5: the quote is a delimiter, handled on the next turn
            else:
                current.append("\\" * count)  # rule 4
            continue
        if char == '"':
            in_argument = True
            if quoted and i + 1 < n and command_line[i + 1] == '"':  # rule 7
                current.append('"')
                i += 2
                continue
            quoted = not quoted  # rule 2
            i += 1
            continue
        if char in " \t" and not quoted:  # rule 1
            if in_argument:
                args.append("".join(current))
            current, in_argument = [], False
            i += 1
            continue
        current.append(char)
        in_argument = True
        i += 1
    if in_argument:
        args.append("".join(current))
    return args
