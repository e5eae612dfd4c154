#!/usr/bin/env bash
# Build transferapp.app and transferapp-VERSION.dmg on macOS (11+), from the repository root:
#   packaging/macos/build_dmg.sh
# Needs: Python 3.11 with the venv at .venv (pip install '.[gui,package]'), Xcode command line tools (iconutil,
# codesign, xcrun notarytool, hdiutil). Signing and notarising are optional and read their identities from the
# environment; without them an unsigned .app and .dmg are built (Gatekeeper then asks users to confirm).
#   MACOS_SIGN_IDENTITY   e.g. "Developer ID Application: Example Ltd (TEAMID1234)"  (codesign --sign)
#   MACOS_NOTARY_PROFILE  a keychain profile made by 'xcrun notarytool store-credentials'  (notarytool --keychain-profile)
#   MACOS_BUNDLE_ID       defaults to com.example.transferapp
# This script cannot run on the Linux machines the project is developed on; it is kept plain and checked by hand.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
python="${PYTHON:-$root/.venv/bin/python}"
[ "$(uname -s)" = "Darwin" ] || { echo "build_dmg.sh runs on macOS only" >&2; exit 1; }

version="$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
work="$root/build/macos"
dist="$root/dist"
rm -rf "$work" "$dist/transferapp" "$dist/transferapp.app"
mkdir -p "$work" "$dist"

# 1. The icon: PNGs rendered from the SVG with Qt, then iconutil makes the .icns.
"$python" packaging/render_icons.py iconset "$work/transferapp.iconset"
iconutil -c icns "$work/transferapp.iconset" -o "$work/transferapp.icns"

# 2. The .app: the spec adds a BUNDLE step on macOS (bundle identifier, version from pyproject.toml).
TRANSFERAPP_ICON="$work/transferapp.icns" "$python" -m PyInstaller --noconfirm \
  --distpath "$dist" --workpath "$work/pyinstaller" packaging/transferapp.spec
app="$dist/transferapp.app"
[ -d "$app" ] || { echo "PyInstaller did not make $app" >&2; exit 1; }

# 3. Smoke test: every check of the bundled app passes.
QT_QPA_PLATFORM=offscreen "$app/Contents/MacOS/transferapp" --self-test

# 4. Sign (hardened runtime, for notarisation) when an identity is given.
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$MACOS_SIGN_IDENTITY" "$app"
  codesign --verify --strict --verbose=2 "$app"
else
  echo "MACOS_SIGN_IDENTITY is not set: the .app is not signed (and cannot be notarised)"
fi

# 5. The .dmg: the .app and a link to /Applications.
stage="$work/dmg"
mkdir -p "$stage"
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
dmg="$dist/transferapp-$version.dmg"
rm -f "$dmg"
hdiutil create -volname "transferapp $version" -srcfolder "$stage" -ov -format UDZO "$dmg"
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
fi

# 6. Notarise and staple when a notary profile is given (needs a signed .app and .dmg).
if [ -n "${MACOS_NOTARY_PROFILE:-}" ] && [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  xcrun notarytool submit "$dmg" --keychain-profile "$MACOS_NOTARY_PROFILE" --wait
  xcrun stapler staple "$dmg"
else
  echo "MACOS_NOTARY_PROFILE (and MACOS_SIGN_IDENTITY) not set: the .dmg is not notarised"
fi
echo "$dmg"
