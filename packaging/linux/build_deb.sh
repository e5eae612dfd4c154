#!/usr/bin/env bash
# Build transferapp_VERSION_ARCH.deb from a PyInstaller bundle (packaging/transferapp.spec, onedir).
#   packaging/linux/build_deb.sh BUNDLE_DIR OUT_DIR [ICON_DIR]
# BUNDLE_DIR is dist/transferapp (the folder holding the 'transferapp' executable); ICON_DIR optionally holds
# hicolor/NxN/apps/transferapp.png (packaging/render_icons.py hicolor ICON_DIR). The version comes from
# pyproject.toml; the package installs to /opt/transferapp with /usr/bin/transferapp, the desktop entry, the icons
# and the systemd user unit for the agent. Prints the path of the .deb on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bundle="${1:?usage: build_deb.sh BUNDLE_DIR OUT_DIR [ICON_DIR]}"
out="${2:?usage: build_deb.sh BUNDLE_DIR OUT_DIR [ICON_DIR]}"
icons="${3:-}"
[ -x "$bundle/transferapp" ] || { echo "build_deb.sh: no executable $bundle/transferapp (build the bundle first)" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "build_deb.sh: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }

version="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
           "$root/pyproject.toml")"
arch="$(dpkg --print-architecture)"
mkdir -p "$out"
stage="$(mktemp -d "${TMPDIR:-/tmp}/transferapp-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"

# Files: the bundle, the command, the desktop entry, the icons, the agent's user unit.
install -d "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" "$stage/usr/lib/systemd/user" \
           "$stage/usr/share/icons/hicolor/scalable/apps" "$stage/usr/share/doc/transferapp" "$stage/DEBIAN"
cp -a "$bundle" "$stage/opt/transferapp"
ln -s /opt/transferapp/transferapp "$stage/usr/bin/transferapp"
install -m 0644 "$root/resources/transferapp.desktop" "$stage/usr/share/applications/transferapp.desktop"
install -m 0644 "$root/resources/icons/transferapp.svg" "$stage/usr/share/icons/hicolor/scalable/apps/transferapp.svg"
if [ -n "$icons" ] && [ -d "$icons/hicolor" ]; then
  cp -r "$icons/hicolor/." "$stage/usr/share/icons/hicolor/"
fi
# The unit already runs /usr/bin/transferapp agent; its Documentation= points into the installed package.
sed 's#^Documentation=.*#Documentation=file:///usr/share/doc/transferapp/README.md#' \
    "$here/transferapp-agent.service" > "$stage/usr/lib/systemd/user/transferapp-agent.service"
install -m 0644 "$root/README.md" "$stage/usr/share/doc/transferapp/README.md"
cat > "$stage/usr/share/doc/transferapp/copyright" <<'TXT'
transferapp: proprietary. The bundle in /opt/transferapp contains third-party components (Python, Qt for Python
(LGPLv3), OpenSSL, Sequoia-PGP, paramiko and others) under their own licenses, listed in their .dist-info folders.
TXT
chmod -R u=rwX,go=rX "$stage/opt/transferapp" "$stage/usr"

installed_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: transferapp
Version: $version
Architecture: $arch
Maintainer: transferapp team <transferapp@example.com>
Section: net
Priority: optional
Installed-Size: $installed_kb
Homepage: https://example.com/transferapp
Depends: libc6, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-image0, libxcb-render-util0, libxcb-shape0,
 libxcb-randr0, libxcb-xkb1, libxkbcommon-x11-0, libegl1, libgl1, libfontconfig1, libdbus-1-3
Recommends: gnome-keyring
Suggests: gnupg
Description: transfer-server manager for merchants (SFTP, WebDAV)
 transferapp sends and fetches merchant files over SFTP and WebDAV, encrypts
 them with OpenPGP where they hold card or personal data, and keeps a transfer
 log that can be verified. It has a desktop app, a command line, and an agent
 (a systemd user unit) that runs watched-folder and scheduled jobs.
 .
 Passwords and key passphrases live in the desktop keyring (Secret Service,
 e.g. gnome-keyring).
CONTROL
# No maintainer scripts: the icon and desktop-entry caches are refreshed by dpkg triggers of hicolor-icon-theme
# and desktop-file-utils, where those are installed.

deb="$out/transferapp_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zzstd -z19 --build "$stage" "$deb" >/dev/null
echo "$deb"
