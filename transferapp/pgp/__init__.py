"""OpenPGP: recipient and own keys, encryption before upload, decryption and verification after download."""
