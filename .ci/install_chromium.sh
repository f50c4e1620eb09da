#!/usr/bin/env bash
# Installs Debian's `chromium` package for .ci/check_page.py, unless a Chromium is already on PATH.
# Uses sudo only when not root and sudo exists; prints the browser's version; fails clearly otherwise.
set -euo pipefail

find_browser() {
    local name
    for name in chromium chromium-browser google-chrome; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}

if browser=$(find_browser); then
    echo "install_chromium: already installed: $browser"
else
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install_chromium: ERROR: not root and no sudo; cannot install the chromium package" >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install_chromium: ERROR: apt-get not found (Debian/Ubuntu needed); install chromium by hand" >&2
        exit 1
    fi
    echo "install_chromium: installing Debian package 'chromium' (takes a minute or two)"
    started=$(date +%s)
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        || ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
        echo "install_chromium: ERROR: apt-get could not install chromium" >&2
        exit 1
    fi
    echo "install_chromium: installed in $(($(date +%s) - started)) s"
    if ! browser=$(find_browser); then
        echo "install_chromium: ERROR: chromium installed but not found on PATH" >&2
        exit 1
    fi
fi

if ! version=$("$browser" --version 2>/dev/null); then
    echo "install_chromium: ERROR: $browser --version failed" >&2
    exit 1
fi
echo "install_chromium: $version ($browser)"
