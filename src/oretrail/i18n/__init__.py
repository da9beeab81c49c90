"""Everything an officer reads, in 简体中文 and English: messages by key, rendered when read (docs/i18n.md)."""
