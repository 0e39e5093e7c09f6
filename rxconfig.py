import reflex as rx
config = rx.Config(app_name="panel_app", telemetry_enabled=False, state_auto_setters=False)
