#!/usr/bin/env bash
# Install (or remove) Pickaxe's menu entry and icons on Linux, for the frozen bundle or a pip install.
#
#   installer/linux/install.sh [--bundle dist/Pickaxe] [--prefix ~/.local] [--uninstall]
#
# With --bundle, the one-folder bundle is copied to PREFIX/lib/pickaxe and PREFIX/bin/pickaxe links
# to its executable. Without it, the menu entry runs the `pickaxe` command a `pip install` put on
# PATH. Either way the desktop entry goes to PREFIX/share/applications and the icons to the hicolor
# theme under PREFIX/share/icons (freedesktop.org menu and icon-theme specifications).
# Default PREFIX: ~/.local for a user, /usr/local when run as root.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
icons="$here/../icons"
bundle=""
prefix=""
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$prefix" ]; then
  if [ "$(id -u)" -eq 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
fi

apps="$prefix/share/applications"
theme="$prefix/share/icons/hicolor"
sizes="16 24 32 48 64 128 256 512"

refresh_caches() {
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t -f "$theme" || true
}

if [ "$uninstall" -eq 1 ]; then
  rm -f "$apps/pickaxe.desktop" "$theme/scalable/apps/pickaxe.svg"
  for s in $sizes; do rm -f "$theme/${s}x${s}/apps/pickaxe.png"; done
  if [ -L "$prefix/bin/pickaxe" ] && [ "$(readlink "$prefix/bin/pickaxe")" = "$prefix/lib/pickaxe/Pickaxe" ]; then
    rm -f "$prefix/bin/pickaxe"
  fi
  rm -rf "$prefix/lib/pickaxe"
  refresh_caches
  echo "Pickaxe removed from $prefix (your data and settings are kept)"
  exit 0
fi

exec_line="pickaxe"
if [ -n "$bundle" ]; then
  if [ ! -x "$bundle/Pickaxe" ]; then
    echo "install.sh: $bundle/Pickaxe is not an executable; build it with: pyinstaller installer/pickaxe.spec" >&2
    exit 1
  fi
  mkdir -p "$prefix/lib" "$prefix/bin"
  rm -rf "$prefix/lib/pickaxe"
  cp -a "$bundle" "$prefix/lib/pickaxe"
  ln -sfn "$prefix/lib/pickaxe/Pickaxe" "$prefix/bin/pickaxe"
  exec_line="$prefix/lib/pickaxe/Pickaxe"
fi

mkdir -p "$apps" "$theme/scalable/apps"
# Absolute Exec/TryExec for a bundle (the prefix's bin/ may not be on PATH); the command name otherwise.
sed -e "s|^Exec=.*|Exec=$exec_line|" -e "s|^TryExec=.*|TryExec=$exec_line|" "$here/pickaxe.desktop" \
  > "$apps/pickaxe.desktop"
cp "$icons/pickaxe.svg" "$theme/scalable/apps/pickaxe.svg"
for s in $sizes; do
  mkdir -p "$theme/${s}x${s}/apps"
  cp "$icons/pickaxe-$s.png" "$theme/${s}x${s}/apps/pickaxe.png"
done
refresh_caches
echo "Pickaxe installed under $prefix (menu entry: $apps/pickaxe.desktop)"
