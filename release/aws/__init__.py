"""One typed wrapper per AWS client the release driver uses; session and clock injected."""
