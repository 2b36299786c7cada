//! Sealing the secrets the service must be able to read back (webhook signing secrets), so that
//! a copy of the database alone does not reveal them.
//!
//! A secret is sealed with XChaCha20-Poly1305 under a 32-byte key that never enters the database:
//! `SECRETS_KEY` (base64), or else a key file (`SECRETS_KEY_FILE`, default
//! `innoloan-secrets.key`) made on first start. Every process that shares a database must share
//! the key; with several hosts, set `SECRETS_KEY`.

use std::path::Path;
use std::sync::Arc;

use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, OsRng},
};

/// What a sealed value starts with, so that a later scheme can be told apart.
const VERSION: &str = "v1:";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("SECRETS_KEY must be 32 bytes in base64 (such as the output of `openssl rand -base64 32`)")]
    BadKey,
    #[error("the secrets key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    /// The value was sealed under another key, or is damaged.
    #[error("a sealed secret cannot be opened with this service's secrets key (was SECRETS_KEY changed?)")]
    CannotOpen,
}

/// Seals and opens secrets under one key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Arc<XChaCha20Poly1305>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// A box under a key given in base64.
    pub fn from_base64(key: &str) -> Result<Self, SecretsError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| SecretsError::BadKey)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| SecretsError::BadKey)?;
        Ok(Self { cipher: Arc::new(cipher) })
    }

    /// A box under a fresh random key that lives as long as the process: for a demo database,
    /// which lives no longer.
    pub fn ephemeral() -> Self {
        Self { cipher: Arc::new(XChaCha20Poly1305::new(&XChaCha20Poly1305::generate_key(&mut OsRng))) }
    }

    /// A new random key, in base64.
    pub fn generate_key() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// The box under the key in `path`, which is made (readable by its owner alone) when it does
    /// not exist yet. Two processes starting at once agree on one key: the second finds the
    /// first's file.
    pub fn from_key_file(path: &Path) -> Result<Self, SecretsError> {
        let failed = |source| SecretsError::KeyFile { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(key) => return Self::from_base64(&key),
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(failed(err)),
            Err(_) => {}
        }
        let key = Self::generate_key();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                std::io::Write::write_all(&mut file, key.as_bytes()).map_err(failed)?;
                file.sync_all().map_err(failed)?;
                Self::from_base64(&key)
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                // Another process made it first; give it a moment to finish writing.
                for _ in 0..50 {
                    if let Ok(key) = std::fs::read_to_string(path).map(|k| k.trim().to_owned())
                        && !key.is_empty()
                    {
                        return Self::from_base64(&key);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(SecretsError::BadKey)
            }
            Err(err) => Err(failed(err)),
        }
    }

    /// Seals a secret: a fresh random nonce, then the ciphertext, in base64 after a version tag.
    pub fn seal(&self, secret: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption in memory fails only for plaintexts of gigabytes.
        let sealed = self.cipher.encrypt(&nonce, secret.as_bytes()).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretsError> {
        let bytes = sealed
            .strip_prefix(VERSION)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .ok_or(SecretsError::CannotOpen)?;
        let (nonce, ciphertext) = bytes.split_at_checked(24).ok_or(SecretsError::CannotOpen)?;
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| SecretsError::CannotOpen)?;
        let plain =
            self.cipher.decrypt(&XNonce::from(nonce), ciphertext).map_err(|_| SecretsError::CannotOpen)?;
        String::from_utf8(plain).map_err(|_| SecretsError::CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_under_its_key() {
        let sealed_box = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        let sealed = sealed_box.seal("whsec_abc");
        assert!(!sealed.contains("whsec_abc"));
        assert_ne!(sealed, sealed_box.seal("whsec_abc"), "a fresh nonce each time");
        assert_eq!(sealed_box.open(&sealed).unwrap(), "whsec_abc");
        assert!(SecretBox::ephemeral().open(&sealed).is_err());
        assert!(sealed_box.open("v1:AAAA").is_err());
        assert!(SecretBox::from_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn a_key_file_is_made_once_and_reused() {
        let path = std::env::temp_dir().join(format!("innoloan-key-test-{}", uuid::Uuid::new_v4()));
        let first = SecretBox::from_key_file(&path).unwrap();
        let second = SecretBox::from_key_file(&path).unwrap();
        assert_eq!(second.open(&first.seal("s")).unwrap(), "s");
        let _ = std::fs::remove_file(path);
    }
}
