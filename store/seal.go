package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Sealer encrypts connection secrets with AES-256-GCM. Each sealed value is
// stored with the id of the key that sealed it, so that keys can be rotated.
type Sealer struct {
	current string
	keys    map[string]cipher.AEAD
}

// KeyID names a key by the first 8 bytes of its SHA-256 (it reveals nothing usable).
func KeyID(key []byte) string {
	h := sha256.Sum256(key)
	return hex.EncodeToString(h[:8])
}

// NewSealer returns a sealer that seals with current and can also open values
// sealed with any of old.
func NewSealer(current []byte, old ...[]byte) (*Sealer, error) {
	s := &Sealer{keys: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{current}, old...) {
		if len(k) != 32 {
			return nil, fmt.Errorf("store: secret key must be 32 bytes, got %d", len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(k)
		s.keys[id] = aead
		if i == 0 {
			s.current = id
		}
	}
	return s, nil
}

// CurrentKeyID is the id of the key new values are sealed with.
func (s *Sealer) CurrentKeyID() string { return s.current }

// Seal encrypts plaintext; additional binds it to its row (for example the
// connection id) so a sealed value cannot be moved to another row.
func (s *Sealer) Seal(plaintext, additional []byte) (sealed []byte, keyID string) {
	aead := s.keys[s.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return aead.Seal(nonce, nonce, plaintext, additional), s.current
}

// ErrUnknownKey is returned when a value was sealed with a key the sealer lacks.
var ErrUnknownKey = errors.New("store: value sealed with an unknown key")

// Open decrypts a sealed value.
func (s *Sealer) Open(sealed []byte, keyID string, additional []byte) ([]byte, error) {
	aead, ok := s.keys[keyID]
	if !ok {
		return nil, ErrUnknownKey
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("store: sealed value too short")
	}
	pt, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], additional)
	if err != nil {
		return nil, fmt.Errorf("store: open sealed value: %w", err)
	}
	return pt, nil
}
