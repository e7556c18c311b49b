"""Partner actors: government bodies, companies, NGOs, international organisations, foundations, academia."""
