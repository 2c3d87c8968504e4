ALTER TABLE "cases" ADD COLUMN "last_touchpoint_id" uuid;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "conversation_messages" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "conversation_inbound" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "stage_rules" text;