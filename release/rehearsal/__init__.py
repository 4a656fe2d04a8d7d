"""The rehearsal: the real driver against moto, the offline engine and a local health endpoint."""
