"""character sheets: up to 5 reference images per character with a view, and a description; generations:
the views and description they send, how many candidates and at which size

Each existing character's one picture (with its cut-out) becomes its first image, the front view; the image
row takes the character's id, which is unique in the new table, so the move is one INSERT ... SELECT on
SQLite and PostgreSQL alike.

Revision ID: 0011
Revises: 0009

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None

PICTURE_COLUMNS = "image_path, thumbnail_path, cutout_path, use_cutout"


def upgrade():
    op.create_table('character_images',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('character_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('view', sa.String(length=20), nullable=False),
    sa.Column('image_path', sa.String(length=255), nullable=False),
    sa.Column('thumbnail_path', sa.String(length=255), nullable=False),
    sa.Column('cutout_path', sa.String(length=255), nullable=True),
    sa.Column('use_cutout', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('character_id', 'position', name='uq_character_images_position')
    )
    with op.batch_alter_table('character_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_character_images_character_id'), ['character_id'], unique=False)
    op.execute(
        "INSERT INTO character_images (id, character_id, position, view, " + PICTURE_COLUMNS + ", created_at) "
        "SELECT id, id, 0, 'front', " + PICTURE_COLUMNS + ", created_at FROM characters"
    )
    with op.batch_alter_table('characters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), server_default='', nullable=False))
        for column in ('use_cutout', 'cutout_path', 'thumbnail_path', 'image_path'):
            batch_op.drop_column(column)
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('character_views', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('character_description', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('candidates', sa.Integer(), server_default='2', nullable=False))
        batch_op.add_column(sa.Column('image_size', sa.String(length=2), server_default='1K', nullable=False))


def downgrade():
    """Back to one picture per character: its first image's; the other views are dropped."""
    with op.batch_alter_table('generations', schema=None) as batch_op:
        for column in ('image_size', 'candidates', 'character_description', 'character_views'):
            batch_op.drop_column(column)
    with op.batch_alter_table('characters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_path', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('thumbnail_path', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('cutout_path', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('use_cutout', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_column('description')
    first = ("SELECT {column} FROM character_images WHERE character_images.character_id = characters.id "
             "ORDER BY position LIMIT 1")
    op.execute("UPDATE characters SET " + ", ".join(
        f"{column} = ({first.format(column=column)})" for column in PICTURE_COLUMNS.split(", ")))
    with op.batch_alter_table('characters', schema=None) as batch_op:
        batch_op.alter_column('image_path', existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column('thumbnail_path', existing_type=sa.String(length=255), nullable=False)
    with op.batch_alter_table('character_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_character_images_character_id'))
    op.drop_table('character_images')
