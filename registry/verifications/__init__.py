"""Stored verifications: the verdict the registry gave on one uploaded file, kept so that an
import and an assessment can name it. Verifying is importers.verification's; a client can never
claim a verdict, it can only point at one stored here, which the server made and which belongs
to it (services.usable)."""
