#!/usr/bin/env bash
# Prints the path of a Python 3 that can import NumPy (for `make crosscheck`), installing NumPy when
# none can: Debian's python3-numpy through apt-get (as root, as `make deps` installs the other
# packages), then pip for $PYTHON. Fails, saying what it tried, when NumPy still cannot be imported:
# the cross-check is never skipped. Progress goes to stderr; stdout holds only the path.
#
# Tried in order: $PYTHON (default: the python3 on the PATH), then /usr/bin/python3 (Debian's, which
# python3-numpy installs into).
set -euo pipefail

python=${PYTHON:-python3}
candidates=("$python" /usr/bin/python3)

with_numpy() {
    local candidate
    for candidate in "${candidates[@]}"; do
        if command -v "$candidate" > /dev/null 2>&1 && "$candidate" -c 'import numpy' > /dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

with_numpy && exit 0
tried=()
if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null 2>&1; then
    echo "numpy: no python3 imports numpy; installing python3-numpy (apt-get)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy; } > /dev/null 2>&1 || true
    tried+=("apt-get install python3-numpy")
    with_numpy && exit 0
fi
if command -v "$python" > /dev/null 2>&1; then
    echo "numpy: installing numpy with $python -m pip" >&2
    "$python" -m pip install --quiet numpy >&2 || true
    tried+=("$python -m pip install numpy")
    with_numpy && exit 0
fi
echo "numpy: no python3 can import numpy (tried: ${tried[*]:-nothing: no apt-get as root, no $python}); install NumPy for python3 and run make test again" >&2
exit 1
