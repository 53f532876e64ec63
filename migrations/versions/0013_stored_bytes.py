"""stored bytes and the gallery's indexes: the size of the files each image, generation and character
(its sheet's pictures for a character) refers to; generations by character (the gallery's filter)

Revision ID: 0013
Revises: 0012

Existing rows start at 0; `flask storage recount` measures their files once after the upgrade.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TABLES = ('images', 'generations', 'character_images')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('stored_bytes', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.create_index('ix_generations_character', ['character_id'], unique=False)


def downgrade():
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_index('ix_generations_character')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('stored_bytes')
